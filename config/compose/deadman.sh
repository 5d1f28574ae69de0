#!/bin/sh
# The compose stack's dead-man's switch, in a container of its own beside the bot's, sharing
# its var/ volume (docker-compose.yml, service `deadman`). The bot's own switch (a child of
# `quoter run`) dies with the bot's container; this one does not.
#
# From here the bot's process cannot be seen (another PID namespace): `--pid 1` is the pid
# the bot writes in its heartbeat (it is PID 1 of its container), and a dead bot is judged by
# its silent heartbeat alone, after [engine.deadman] timeout_s. The switch ends after one
# firing or one clean stop; then this loop waits for a bot beating again (a restarted
# container) before it watches anew, so a dead bot is fired on once, not once a restart.
set -u
CONFIG=${QUOTER_CONFIG:-config/compose/quoter.toml}
BEAT=${QUOTER_HEARTBEAT:-/app/var/heartbeat.json}
while :; do
    quoter deadman --config "$CONFIG" --pid 1
    seen=$(stat -c %Y.%s "$BEAT" 2>/dev/null || echo none)
    while [ "$(stat -c %Y.%s "$BEAT" 2>/dev/null || echo none)" = "$seen" ]; do
        sleep 1
    done
done
