"""Recording library: encoded media in, playable files and manifests out (never imports server)."""
