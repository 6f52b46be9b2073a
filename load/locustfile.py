"""The sloguard load scenario for plain Locust: ``locust -f load/locustfile.py`` (web UI included).

    locust -f load/locustfile.py --sloguard-profile capacity --sloguard-config sloguard.yaml
    locust -f load/locustfile.py --headless --sloguard-profile smoke --host http://127.0.0.1:8400

`sloguard load --profile ...` runs the same users, shape, SLO gate and report without this file.
The virtual users (logged in, a weighted mix of the catalog's operations), the profile's load shape
and the capacity report come from the engine; a team adds its own tasks by subclassing the user:

    class CheckoutUser(SloguardUser):
        @task(5)
        def checkout(self) -> None:
            self.client.post("/api/stripe/charges", json={...}, name="stripe · checkout")
"""

from sloguard.load.standalone import ProfileShape, SloguardUser

__all__ = ["ProfileShape", "SloguardUser"]
