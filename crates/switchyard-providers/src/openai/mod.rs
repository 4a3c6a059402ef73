//! The OpenAI dialect: OpenAI, Azure and every OpenAI-compatible host.
