import time
from test_web_browser import *  # noqa

def test_dbg(site_url, browser):
    browser.get(site_url)
    time.sleep(2)
    g = browser.find_element(By.ID, "facet-genre")
    g.click(); g.send_keys("ja"); time.sleep(2)
    print("HTML", browser.find_element(By.ID, "facets").get_attribute("innerHTML")[:1500])
    print("LOG", browser.get_log("browser"))
    browser.save_screenshot("/tmp/dbg.png")
