"""The published contract: JSON Schemas of the events, the AsyncAPI document, compatibility."""
