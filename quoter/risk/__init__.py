"""Pre-trade risk: pure checks every quote passes before it leaves, each with a reason code."""
