"""The learner's wallet: extra e-mail addresses, the credentials they hold (ours and imported), share links,
holder DID, export and account erasure."""
