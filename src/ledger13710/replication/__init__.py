"""Federation over NATS JetStream: events flow up, assignments and review decisions flow down."""
