"""The bottom layer: what every other layer speaks and none owns (the configuration base,
configuration errors, listening on loopback, the usage-plan lane and guard state, bucket counts).
It imports nothing of quoter's but itself and the clock."""
