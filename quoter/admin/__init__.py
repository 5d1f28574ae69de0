"""The admin interface: an authenticated HTTP API on loopback that `quoter status`, `kill`,
`resume` and `swap` talk to, its client, and the strategy swaps it and the config file drive."""
