"""The annotation backend: passages, suggestions, decisions and adjudications in the store,
the queues annotators read from, their agreement, and interchange with other tools."""
