"""nats-server configurations: users and permissions, servers and streams, their rendering."""
