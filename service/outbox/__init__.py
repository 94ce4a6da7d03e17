"""Transactional outbox: events written with the change, side effects performed later."""
