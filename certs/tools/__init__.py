"""Command-line tools: the development CA and the holder app used in tests and demos."""
