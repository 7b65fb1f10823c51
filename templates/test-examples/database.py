"""EXAMPLE: the tests of the example routes (app/examples.py); `make
remove-examples` deletes them with the examples."""


def test_hello(app, client):
    response = client.get("/api/hello")
    assert response.status_code == 200
    assert response.get_json() == {"message": f"Hello from {app.config['NAME']}!"}


def test_the_home_page_shows_the_examples(client):
    assert 'href="/api/hello"' in client.get("/").get_data(as_text=True)


def test_visits_are_recorded_and_counted(client):
    assert client.get("/api/visits").get_json() == {"visits": 0}
    response = client.post("/api/visits")
    assert (response.status_code, response.get_json()) == (201, {"visits": 1})
    assert client.get("/api/visits").get_json() == {"visits": 1}
