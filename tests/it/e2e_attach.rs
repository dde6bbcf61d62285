//! Attachments in a real browser: a unit's secretary attaches a scan to a step of her assembly
//! through the file input, sees it in the history, and downloads it back byte for byte; every
//! page is checked with axe-core as in [`e2e`](crate::e2e).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use unionflow::engine::Actor;
use unionflow::runtime::Runtime;

use crate::e2e::{Browser, Driver, axe_source, require_browser};
use crate::support::{Backend, TestDb};

/// How long a download may take to land on disk.
const DOWNLOAD: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, chromedriver and axe-core: set UNIONFLOW_E2E=1 and run with --include-ignored"]
async fn e2e_a_scan_attached_to_a_step_downloads_byte_for_byte() {
    require_browser();
    let axe = Arc::new(axe_source());
    let db = TestDb::new(Backend::Sqlite).await;
    let set = unionflow::definition::embedded::load_embedded().expect("built-in definitions are valid");
    let offset = unionflow::config::parse_offset("+08:00").expect("an offset");
    let rt = Arc::new(
        Runtime::new(db.db.clone(), set, Arc::new(unionflow::clock::SystemClock), offset).await.expect("the runtime"),
    );
    assert!(unionflow::demo::seed(&rt).await.expect("seed the demo"), "the demo seeds an empty database");
    let admin = Actor::new("admin", ["admin"]);
    let start = crate::support::data(json!({ "unit": "u01", "draft_version": 9 }));
    let id = rt.start("assembly_approval", &admin, &start).await.expect("an assembly");
    let schedule = crate::support::data(json!({ "assembly_date": "2026-12-20", "kind": "representatives" }));
    rt.fire(id, None, &admin, "schedule", &schedule).await.expect("scheduled");

    let router = unionflow::web::router(unionflow::web::AppState::new(rt.clone(), Default::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("the app's address");
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve the app");
    });
    let work = std::env::temp_dir().join(crate::support::unique_name("unionflow_e2e_attach"));
    let downloads = work.join("downloads");
    std::fs::create_dir_all(&downloads).expect("a download folder");
    let scan = crate::attachments::pdf(300 * 1024);
    let upload = work.join("assembly-notice.pdf");
    std::fs::write(&upload, &scan).expect("the scan to upload");

    let driver = Driver::start();
    let prefs = json!({
        "download.default_directory": downloads.display().to_string(),
        "download.prompt_for_download": false,
        "download.directory_upgrade": true,
    });
    let client = driver.session_with_prefs(Some(prefs)).await;
    let browser = Browser { client: client.clone(), base: format!("http://{addr}"), axe };
    let (folder, file) = (downloads.clone(), upload.clone());
    let outcome = tokio::spawn(async move {
        let b = browser;
        b.sign_in("chen.jing").await;
        let page = format!("/instances/{id}");
        b.open(&page).await;
        b.select("#attach-step", "1").await;
        b.find("#attach-file").await.send_keys(&file.display().to_string()).await.expect("choose the file");
        b.click("form.attach-form button[type=submit]").await;
        assert_eq!(b.path().await, page, "attaching returns to the instance");
        let link = b.find("main .history a.file").await;
        assert_eq!(link.text().await.expect("the link's text"), "assembly-notice.pdf");

        // The link downloads; the file on disk is the file sent.
        link.click().await.expect("click the download link");
        // Done when the file stands under its own name and Chromium's partial files are gone.
        let landed = folder.join("assembly-notice.pdf");
        let deadline = Instant::now() + DOWNLOAD;
        loop {
            let entries = std::fs::read_dir(&folder).expect("the download folder").filter_map(Result::ok).count();
            if landed.exists() && entries == 1 {
                break;
            }
            assert!(Instant::now() < deadline, "the download did not land within {DOWNLOAD:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let back = std::fs::read(&landed).expect("the downloaded file");
        assert!(back == scan, "the download is the scan byte for byte ({} bytes back)", back.len());
        // Downloading left the page as it was, and it is still clean.
        b.open(&page).await;
    })
    .await;
    let _ = client.close().await;
    drop(driver);
    server.abort();
    drop(db);
    let _ = std::fs::remove_dir_all(&work);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
