"""Live streams (Mastodon's streaming API): which listener hears of which event, and may it."""
