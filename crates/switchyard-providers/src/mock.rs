//! The `mock_response` provider: answers without any network.
