"""Connecting to Kafka: the local broker, the pinned Kafka jars and client configuration."""

from __future__ import annotations

from hub.broker.local import LocalKafka, find_free_port

__all__ = ["LocalKafka", "find_free_port"]
