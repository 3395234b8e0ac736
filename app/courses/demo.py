"""Demo lessons for «Excel intermedio»: Markdown text, a small PDF guide and a short video (idempotent)."""

from pathlib import Path

from app.courses import uploads
from app.courses.models import Lesson, Material
from app.extensions import db

FILES = Path(__file__).resolve().parent / "demo_files"

LESSONS = (
    ("Tablas dinámicas", """\
Las **tablas dinámicas** resumen miles de filas en segundos.

1. Selecciona cualquier celda de tus datos.
2. Ve a **Insertar → Tabla dinámica**.
3. Arrastra *Región* a **Filas** y *Ventas* a **Valores**.

> Consejo: convierte primero tus datos en una tabla (Ctrl + T) para que la tabla dinámica crezca con ellos.

Mira el video corto y luego repite los pasos con tus propios datos.
""", "tablas-dinamicas.webm"),
    ("Funciones de búsqueda", """\
Para traer datos de otra tabla usa una función de búsqueda:

| Función | Cuándo usarla |
| --- | --- |
| `BUSCARV` | Versiones antiguas de Excel; busca sólo hacia la derecha |
| `BUSCARX` | Excel 365 y 2021; busca en cualquier dirección |
| `INDICE` + `COINCIDIR` | Búsquedas flexibles en cualquier versión |

Descarga la guía en PDF y resuelve el ejercicio del final.
""", "guia-funciones-busqueda.pdf"),
    ("Gráficos para el trabajo diario", """\
Un buen gráfico responde **una** pregunta.

- Comparar categorías: columnas o barras.
- Mostrar una evolución en el tiempo: líneas.
- Mostrar partes de un total: evita los gráficos circulares con más de cuatro partes.

Más ayuda en el [soporte de Microsoft](https://support.microsoft.com/es-es/excel).
""", None),
)


def _attach(lesson: Lesson, filename: str) -> None:
    name, kind = uploads.classify(filename, (FILES / filename).read_bytes()[: uploads.HEAD_BYTES])
    with open(FILES / filename, "rb") as stream:
        stored, size = uploads.save_stream(stream, name.rpartition(".")[2])
    lesson.materials.append(Material(kind=kind.kind, original_name=name, stored_name=stored,
                                     content_type=kind.content_type, size=size, position=1))


def seed(course) -> None:
    """Give the course its three lessons, only if it has none (keeps an instructor's own lessons)."""
    if course.lessons:
        return
    for position, (title, body, filename) in enumerate(LESSONS, 1):
        lesson = Lesson(title=title, body=body, position=position)
        course.lessons.append(lesson)
        if filename:
            _attach(lesson, filename)
    db.session.flush()
