"""Validate SOAP requests against NetSuite's REAL SuiteTalk 2023_2 XSDs (read from shared/vendor-specs).

Usage in a test:

    validator = RealXsdValidator.load_or_skip()
    validator.install(emulator)          # every request body the emulator receives is validated
    ...
    validator.assert_clean()             # fails listing the first problems

The vendored files are only read here; they are never copied into the package.
"""

from __future__ import annotations

import copy
import functools
import threading
from pathlib import Path
from typing import Any

from lxml import etree

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
SPEC_DIR_NAME = "netsuite-2023_2"


def find_real_specs() -> Path | None:
    """The vendored NetSuite 2023_2 WSDL folder: `../shared/vendor-specs/netsuite-2023_2` from the repo root."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "vendor-specs" / SPEC_DIR_NAME
        if (candidate / "netsuite.wsdl").is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=1)
def _compiled_schema(spec_dir: str) -> Any:
    xsd_dir = Path(spec_dir) / "xsd"
    imports = []
    for path in sorted(xsd_dir.glob("*.xsd")):
        root = etree.parse(str(path)).getroot()
        imports.append(f'<xsd:import namespace="{root.get("targetNamespace")}" schemaLocation="{path.as_uri()}"/>')
    wrapper = (
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:zns-sync:conformance">'
        + "".join(imports)
        + "</xsd:schema>"
    )
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), base_url=str(xsd_dir) + "/"))


class RealXsdValidator:
    """Validates the SOAP Body's child and every SOAP header element against the real XSDs."""

    def __init__(self, spec_dir: Path) -> None:
        self.spec_dir = spec_dir
        self._schema = _compiled_schema(str(spec_dir))
        self._lock = threading.RLock()
        self.errors: list[str] = []
        self.validated = 0

    @classmethod
    def load_or_skip(cls) -> RealXsdValidator:
        """The validator, or a pytest skip with the reason when the vendored specs are absent."""
        spec_dir = find_real_specs()
        if spec_dir is None:
            import pytest

            pytest.skip("NetSuite's real 2023_2 XSDs not found at ../shared/vendor-specs/netsuite-2023_2")
        return cls(spec_dir)

    def validate(self, body: bytes) -> list[str]:
        """Problems of one SOAP request (empty when it conforms)."""
        try:
            root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            return [f"not XML: {exc}"]
        problems: list[str] = []
        parts: list[Any] = []
        for section in root:
            if section.tag in (f"{{{SOAPENV}}}Header", f"{{{SOAPENV}}}Body"):
                parts.extend(child for child in section if isinstance(child.tag, str))
        if not parts:
            return ["no SOAP header or body elements"]
        for element in parts:
            document = etree.ElementTree(copy.deepcopy(element))
            with self._lock:  # one lxml schema object is shared by the emulator's threads
                if not self._schema.validate(document):
                    name = etree.QName(element).localname
                    problems.extend(f"{name}: line {e.line}: {e.message}" for e in self._schema.error_log)
        return problems

    def __call__(self, body: bytes) -> None:
        problems = self.validate(body)
        with self._lock:
            self.validated += 1
            if problems:
                self.errors.extend(problems)

    def install(self, emulator: Any) -> RealXsdValidator:
        """Validate every request `emulator` receives from now on (sets its request_hook)."""
        emulator.request_hook = self
        return self

    def assert_clean(self) -> None:
        """Fail when any validated request broke the real schema."""
        with self._lock:
            errors = list(self.errors)
        assert not errors, "requests do not conform to NetSuite's 2023_2 XSDs:\n" + "\n".join(errors[:20])
