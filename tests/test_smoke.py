def test_sign_in_page_renders_in_spanish(client):
    page = client.get("/ingresar").get_data(as_text=True)
    assert "Ingresar a Pizarra" in page
    assert "RUN o correo" in page


def test_healthz_answers_without_a_session(client):
    response = client.get("/healthz")
    assert response.get_data(as_text=True) == "ok"
    assert "Set-Cookie" not in response.headers
