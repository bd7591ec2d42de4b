"""A node's configuration: its TOML file, policies, calendars, boards and the contact directory."""
