"""Local stand-ins of Google's sign-in (OAuth2/OIDC) and the YouTube Data API that speak the real protocols:
what `dataget demo` signs in and builds playlists against when no OAuth client is configured, and what the tests
use in place of Google."""
