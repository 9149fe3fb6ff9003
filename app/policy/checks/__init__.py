"""The checks of ``policy validate``, one module a part of the policy file; ``app.policy.loader`` runs them in
order and gathers their problems, each with its line."""
