"""The baked site in a real browser: headless Chromium loads the home page from
the running deployment of every variant. The stylesheet nginx serves is
applied, nothing fails to load, the console shows no error, the
Content-Security-Policy is not violated (and is enforced). A screenshot of
each variant is kept in artifacts/ (git-ignored)."""

import json

import pytest
from browser import Chromium, executable
from helpers import IMAGE, REPO

pytestmark = pytest.mark.docker

STATIC = IMAGE["static_url_path"]
ARTIFACTS = REPO / "artifacts"

# Runs in every document before its own content (DevTools' scripts are not
# subject to the page's CSP): records each violation the page reports.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.cspViolations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""

# How the page looks, as the browser computed it, and where its styles came from.
LOOK = """(() => {
    const style = (selector) => getComputedStyle(document.querySelector(selector));
    // A stylesheet that did not load has no rules to read.
    const rules = (sheet) => { try { return sheet.cssRules.length; } catch { return null; } };
    return {
        stylesheets: [...document.styleSheets].map(
            (sheet) => [new URL(sheet.href).pathname, rules(sheet)]),
        background: style("body").backgroundColor,
        font: style("body").fontFamily,
        header: style(".site-header").display,
        width: style("main").maxWidth,
        card: style(".stack li").borderTopLeftRadius,
        icon: document.querySelector(".brand img").naturalWidth,
    };
})()"""


@pytest.fixture(scope="session")
def chromium():
    browser = Chromium(executable())
    yield browser
    browser.close()


def load(page, url, blocked=()):
    page.call("Network.setBlockedURLs", urls=list(blocked))
    page.navigate(url)
    return page.evaluate(LOOK)


def console_errors(page):
    """Errors the page showed in its console: failed loads, CSP refusals
    (Log), script errors and console.error calls (Runtime)."""
    errors = [
        f"{entry['entry']['source']}: {entry['entry']['text']}"
        for entry in page.named("Log.entryAdded")
        if entry["entry"]["level"] == "error"
    ]
    errors += [
        json.dumps(call["args"])
        for call in page.named("Runtime.consoleAPICalled")
        if call["type"] in ("error", "assert")
    ]
    errors += [str(thrown["exceptionDetails"]) for thrown in page.named("Runtime.exceptionThrown")]
    return errors


def test_page_in_chromium(variant, served, chromium):
    slug = f"{variant.base_image.replace(':', '-')}-{variant.deployment}"
    with chromium.page() as page:
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        # Every load fetches anew: what nginx sends, not the browser's cache.
        page.call("Network.setCacheDisabled", cacheDisabled=True)
        page.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_VIOLATIONS)

        # With the static files blocked: the browser's own look, to compare with.
        unstyled = load(page, f"{served.url}/", blocked=[f"*{STATIC}/*"])
        assert unstyled["stylesheets"] == [[f"{STATIC}/style.css", None]], unstyled
        assert unstyled["icon"] == 0, unstyled

        styled = load(page, f"{served.url}/")
        screenshot = ARTIFACTS / f"screenshot-{slug}.png"
        screenshot.parent.mkdir(exist_ok=True)
        page.screenshot(screenshot)
        print(f"screenshot: {screenshot}")

        # The stylesheet came from nginx, compressed and cacheable, and applies.
        [(path, rules)] = styled["stylesheets"]
        assert path == f"{STATIC}/style.css" and rules > 10
        changed = [key for key in unstyled if key != "stylesheets" and unstyled[key] != styled[key]]
        assert changed == ["background", "font", "header", "width", "card", "icon"], styled
        responses = {
            response["response"]["url"].removeprefix(served.url): response["response"]
            for response in page.named("Network.responseReceived")
        }
        assert {"/", f"{STATIC}/style.css", f"{STATIC}/favicon.svg"} <= set(responses)
        assert all(r["status"] == 200 for r in responses.values()), responses
        css = {k.lower(): v for k, v in responses[f"{STATIC}/style.css"]["headers"].items()}
        assert css["server"] == "nginx"
        assert css["content-encoding"] == "gzip"
        assert css["cache-control"].startswith("max-age=")

        # A clean console, and no part of the page refused by the CSP.
        assert console_errors(page) == []
        assert page.evaluate("window.cspViolations") == []

        # The CSP is in force: an inline style added now is refused and seen
        # by the checks above.
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">')")
        # Violations are reported in a task of their own: give it a moment.
        page.evaluate("new Promise((resolve) => setTimeout(resolve, 500))")
        # (Chromium may report the one refusal more than once.)
        assert set(page.evaluate("window.cspViolations")) == {"style-src-attr inline"}
        assert any("Content Security Policy" in error for error in console_errors(page))
