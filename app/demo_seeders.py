"""Import every domain's demo seeder so `demo seed` runs them (one import per domain)."""
