"""The service layer (decision 0032): one small module per use-case area that the command line and the app both
call — export, erasure, policy, targets, incidents (breach), dsr (and dsr_actions, acting on a request), audit,
siem, tokens, vault, setup, and the reads of the Overview and Identities.

A service takes what it needs explicitly (the vault, the policy in force, a clock), does the whole use case (the
change, its audit entry and its outbox items in one transaction, as the domain does them) and returns plain
result objects. ``app/commands`` parse and print, ``app/ui`` shows; neither holds domain logic, and both reach the
domain through here and run no SQL (the ``services-are-the-way-in`` and ``no-sql-in-front-ends`` contracts in
``.importlinter``).

Modules here import the domain at their top: the command line imports a service only when its command runs, so
``custos --help`` stays light.
"""
