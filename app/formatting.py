"""Numbers and counted nouns as Chile writes them on screen: "24,0 h", "2.000 participantes", "1 intento"."""

from markupsafe import Markup, escape


def cl_number(value, decimals: int = 1) -> str:
    """12.5 -> "12,5"; 2000 -> "2.000": a decimal comma and a dot between thousands."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """3, "participante" -> "3 participantes"; irregular words pass their plural ("sesión", "sesiones")."""
    if plural_form is None:
        plural_form = singular + ("s" if singular[-1:] in "aeiouáéó" else "es")
    return f"{cl_number(count, 0)} {singular if count == 1 else plural_form}"


def address_breaks(address: str) -> Markup:
    """ana.maria@otec.cl -> line breaks allowed only after "@" and before ".", never inside a word."""
    text = str(escape(address.strip()))
    return Markup(text.replace("@", "@<wbr>").replace(".", "<wbr>."))  # noqa: S704 (escaped above)


def register(app) -> None:
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.filters["address_breaks"] = address_breaks
