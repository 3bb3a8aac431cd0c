-- The store's clock (DESIGN §2.6): every instance reads time from here.
SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint
