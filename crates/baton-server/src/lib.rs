//! The Baton media server (stream hub, fan-out, GOP cache, configuration).
