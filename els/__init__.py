"""ELS: the Essay Lifecycle Service."""
