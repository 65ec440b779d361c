"""One function per use case. Each takes an explicit actor (a `Person` for API
calls, a `System` when a message or a job drives it), and a use case that writes
does all its reads and writes in one `ctx.uow.run` transaction."""
