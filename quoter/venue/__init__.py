"""The venue port and its adapters: what the engine needs from entender, and how it is spoken."""
