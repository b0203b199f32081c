"""The gRPC boundary: servicers, proto <-> domain conversion, validation, health."""
