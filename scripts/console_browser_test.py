"""Headless Chromium on the Brixia web console (see console-browser-test.sh). Prints 'N passed, N failed'."""
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

DISCLAIMER = "AI-generated, not verified by a physician, not for diagnostic use"
base, user, password = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
shots = sys.argv[4] if len(sys.argv) > 4 else None
if shots:
    os.makedirs(shots, exist_ok=True)

opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1600,1300",
          "--force-prefers-reduced-motion", "--lang=en-US"):
    opts.add_argument(a)
# JavaScript stays on only for the test's own DOM queries; the pages themselves have no script.
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
driver.set_page_load_timeout(60)
passed, failed = 0, 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def shot(name, full_height=False):
    if not shots:
        return
    if full_height:
        h = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1600, min(max(h, 900), 6000))
    driver.save_screenshot(os.path.join(shots, name))
    driver.set_window_size(1600, 1300)


try:
    # Unauthenticated: the worklist sends the browser to the login page.
    driver.get(base + "/")
    check("redirected to login", "/login" in driver.current_url, driver.current_url)
    check("login form", len(driver.find_elements(By.ID, "login-form")) == 1)
    check("disclaimer on login page", DISCLAIMER in driver.find_element(By.ID, "disclaimer").text)
    check("no script on the page", len(driver.find_elements(By.TAG_NAME, "script")) == 0)
    shot("console-login.png")

    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    time.sleep(0.5)
    rows = driver.find_elements(By.CSS_SELECTOR, "#worklist tbody tr")
    check("worklist after login", driver.current_url.rstrip("/") == base, driver.current_url)
    check("worklist rows", len(rows) >= 7, f"{len(rows)} rows")
    check("signed-in user shown", user in driver.find_element(By.ID, "who").text)
    check("disclaimer on worklist", DISCLAIMER in driver.find_element(By.ID, "disclaimer").text)
    states = {r.find_element(By.CLASS_NAME, "state").text for r in rows}
    check("studies are done", "done" in states, str(states))
    scores = [r.find_element(By.CLASS_NAME, "score").text for r in rows if "state-done" in r.get_attribute("class")]
    check("every scored study has a global score", scores and all(s.isdigit() and 0 <= int(s) <= 18 for s in scores), str(scores))
    font = driver.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
    check("large type for the reading room", font >= 18, str(font))
    shot("console-worklist.png", full_height=True)

    driver.find_element(By.LINK_TEXT, "BRX-0001").click()
    time.sleep(0.5)
    check("patient page", "/patients/BRX-0001" in driver.current_url, driver.current_url)
    charts = driver.find_elements(By.CSS_SELECTOR, "#trend-chart svg.trend")
    check("trend chart drawn", len(charts) == 1)
    points = driver.find_elements(By.CSS_SELECTOR, "#trend-chart g.exam")
    check("one chart point per exam", len(points) == 4, f"{len(points)}")
    check("four exams listed", len(driver.find_elements(By.CSS_SELECTOR, "article.exam")) == 4)
    check("zone diagrams", len(driver.find_elements(By.CSS_SELECTOR, "svg.zones")) == 4)
    imgs = driver.find_elements(By.CSS_SELECTOR, "img.report")
    loaded = [driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i) for i in imgs]
    check("rendered report images load", len(imgs) == 4 and all(w and w > 100 for w in loaded), str(loaded))
    check("disclaimer on patient page", DISCLAIMER in driver.find_element(By.ID, "disclaimer").text)
    shot("console-patient.png", full_height=True)

    driver.find_element(By.CSS_SELECTOR, "article.exam h3 a").click()
    time.sleep(0.5)
    check("study page", "/studies/" in driver.current_url and len(driver.find_elements(By.ID, "delivery")) == 1)
    shot("console-study.png", full_height=True)

    driver.get(base + "/quarantine")
    qrows = driver.find_elements(By.CSS_SELECTOR, "#quarantine tbody tr")
    check("quarantine lists the rejects with reasons", len(qrows) == 2 and "lateral" in driver.page_source, f"{len(qrows)}")
    shot("console-quarantine.png")
    driver.get(base + "/outgoing")
    check("outgoing queue per destination", len(driver.find_elements(By.CSS_SELECTOR, "#outgoing tbody tr")) >= 1)
    shot("console-outgoing.png")
except Exception as e:  # a crash is a failure, with the reason
    failed += 1
    print(f"FAIL exception: {e!r}")
finally:
    driver.quit()

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
