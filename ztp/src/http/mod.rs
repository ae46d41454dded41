//! The HTTP image, configuration and script server.
