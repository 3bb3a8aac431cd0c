//! `chime token …`: API tokens, made and revoked on the store directly, so
//! the first one can exist before any API call is allowed.

use super::serve::open_store;
use super::Failure;
use anyhow::Context;
use chime_core::model::Role;
use clap::{Args, Subcommand, ValueEnum};

#[derive(Args)]
pub struct TokenArgs {
    /// Store URL, as for `chime serve`.
    #[arg(
        long,
        global = true,
        env = "CHIME_DB",
        default_value = "sqlite://chime.db"
    )]
    db: String,
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print its secret (shown this once only).
    Create {
        /// What the token is for, e.g. "ci" or "grafana".
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Read)]
        role: RoleArg,
        #[arg(long, default_value = "default")]
        namespace: String,
    },
    /// List tokens (never their secrets).
    Ls,
    /// Revoke a token; instances stop accepting it within 10 seconds.
    Rm { id: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Read,
    Operator,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Read => Role::Read,
            RoleArg::Operator => Role::Operator,
            RoleArg::Admin => Role::Admin,
        }
    }
}

pub fn run(args: TokenArgs) -> Result<(), Failure> {
    super::client::block_on(async move {
        let store = open_store(&args.db).await?;
        match args.command {
            TokenCommand::Create {
                name,
                role,
                namespace,
            } => {
                let (token, secret) =
                    chime_engine::auth::create(store.as_ref(), &name, role.into(), &namespace)
                        .await
                        .map_err(|e| match e {
                            chime_engine::auth::CreateError::Invalid(f) => {
                                Failure::Input(format!("--{}: {}", f.field, f.message))
                            }
                            other => Failure::Other(other.into()),
                        })?;
                eprintln!(
                    "created {} token {} ({}); keep the secret, it is not shown again:",
                    token.role.as_str(),
                    token.id,
                    token.name
                );
                println!("{secret}");
            }
            TokenCommand::Ls => {
                let tokens = store.tokens_list().await.context("listing tokens")?;
                if tokens.is_empty() {
                    println!("no tokens");
                }
                for t in tokens {
                    println!(
                        "{}  {:<8}  {:<10}  {}  {}",
                        t.id,
                        t.role.as_str(),
                        t.namespace,
                        t.created_at.strftime("%Y-%m-%d %H:%M:%SZ"),
                        t.name
                    );
                }
            }
            TokenCommand::Rm { id } => {
                if !store
                    .tokens_delete(&id)
                    .await
                    .context("deleting the token")?
                {
                    return Err(Failure::Api {
                        status: 404,
                        message: format!("token {id} not found"),
                    });
                }
                println!("revoked token {id}");
            }
        }
        Ok(())
    })
}
