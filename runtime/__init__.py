"""Runtime helpers shared by the executors (imported inside component bodies only)."""
