"""Connecting to Kafka: the embedded broker and client configuration from settings."""

from __future__ import annotations

from hub.broker.embedded import EmbeddedBroker, embedded_broker, find_free_port

__all__ = ["EmbeddedBroker", "embedded_broker", "find_free_port"]
