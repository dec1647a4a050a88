"""Pure essay logic: detection, extraction, validation, metrics, analysis. No framework imports."""
