"""Application services: commands over the event store, and the node-local directory."""
