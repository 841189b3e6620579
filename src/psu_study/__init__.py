"""Analysis of the PSU junior doctors study."""
