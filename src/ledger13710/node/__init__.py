"""The composition root: the one place a node is wired (bootstrap), its daemon and status."""
