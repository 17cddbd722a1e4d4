"""Recording every AWS operation the client factory's clients make, in order (a fixture body)."""
from environments import aws


def recorded_calls():
    """Yields the list of the AWS operations called from then on ("PutRule", "GetSchedule", ...), in
    order, until closed: a before-call hook on every client the factory makes. A test module makes
    it a fixture: `calls = pytest.fixture(recorded_calls, name="calls")`."""
    seen = []

    def hook(client, environment, service):
        client.meta.events.register("before-call", lambda model, **kw: seen.append(model.name))

    aws.add_client_hook(hook)
    yield seen
    aws.remove_client_hook(hook)
