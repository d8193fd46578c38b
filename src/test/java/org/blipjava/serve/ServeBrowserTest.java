package org.blipjava.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.retrieval.ImageIndex;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in headless Chromium (Debian's chromium and chromium-driver): upload, caption,
 * question, scores, search by text and by image, attention picture; saves a screenshot to
 * {@code target/serve-page.png}. Skipped, saying why, only where no Chromium or chromedriver is
 * installed; {@code .ci/run} installs both and sets {@code BLIP_REQUIRE_BROWSER=1}, which turns
 * the skip into a failure.
 */
@Timeout(180)
class ServeBrowserTest {
    @TempDir
    Path tmp;

    static Optional<Path> find(String... names) {
        for (String n : names) {
            for (String dir : List.of("/usr/bin", "/usr/lib/chromium", "/usr/local/bin")) {
                Path p = Path.of(dir, n);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    @Test
    void uploadCaptionAskScoreSearchAndExplainInARealBrowser() throws Exception {
        Optional<Path> chromium = find("chromium", "chromium-browser", "google-chrome");
        Optional<Path> driver = find("chromedriver");
        if (chromium.isEmpty() || driver.isEmpty()) {
            String why = "no " + (chromium.isEmpty() ? "chromium" : "chromedriver") + " in /usr/bin, /usr/lib/chromium or "
                    + "/usr/local/bin; install Debian's chromium and chromium-driver (.ci/run does)";
            if ("1".equals(System.getenv("BLIP_REQUIRE_BROWSER"))) {
                throw new AssertionError(why);
            }
            Assumptions.abort(why);
        }
        try (ServedModels models = ServeTesting.models();
                ImageIndex index = ServeTesting.index(models, tmp.resolve("index"));
                BlipServer server = BlipServer.start(models, index, ServeOptions.defaults().withAddress("127.0.0.1", 0))) {
            Blip captioner = (Blip) models.all().iterator().next().model();
            Blip vqa = (Blip) models.all().stream().filter(e -> e.name().equals("tiny-vqa")).findFirst().orElseThrow().model();
            Path photo = ServeTesting.image("photo_512x384.jpg");
            RgbImage image = Images.read(photo);
            GeneratedText greedy = captioner.caption(List.of(image), null, captioner.generationDefaults()).get(0);
            GeneratedText beam = captioner.caption(List.of(image), null,
                    captioner.generationDefaults().toBuilder().numBeams(3).build()).get(0);
            String answer = vqa.answer(List.of(image), List.of("what is in the picture?"), vqa.generationDefaults()).get(0).text();

            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(driver.get().toFile()).usingAnyFreePort().build();
            ChromeOptions options = new ChromeOptions();
            options.setBinary(chromium.get().toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1400,1700", "--user-data-dir=" + tmp.resolve("profile"));
            ChromeDriver browser = new ChromeDriver(service, options);
            try {
                browser.manage().window().setSize(new Dimension(1400, 1700));
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
                // A timeout says what the page showed.
                wait.withMessage(() -> "page status: '" + browser.findElement(By.id("status")).getText() + "', results: '"
                        + browser.findElement(By.id("results")).getText() + "'");
                browser.get("http://127.0.0.1:" + server.port() + "/");
                wait.until(d -> d.findElement(By.id("status")).getText().contains("model(s) served"));

                // Upload: the page captions the image at once, greedy and with beams.
                browser.findElement(By.id("file")).sendKeys(photo.toAbsolutePath().toString());
                wait.until(d -> d.findElement(By.id("caption-greedy")).getText().equals(greedy.text()));
                wait.until(d -> d.findElement(By.id("caption-beam")).getText().equals(beam.text()));

                browser.findElement(By.id("question")).sendKeys("what is in the picture?");
                browser.findElement(By.id("ask")).click();
                wait.until(d -> !d.findElements(By.cssSelector("#answers .answer")).isEmpty());
                assertThat(browser.findElement(By.cssSelector("#answers .answer")).getText()).isEqualTo(answer);

                browser.findElement(By.id("texts")).sendKeys("a photo of a street\na bowl of fruit");
                browser.findElement(By.id("score")).click();
                wait.until(d -> d.findElements(By.cssSelector("#scores tbody tr")).size() == 2);
                assertThat(browser.findElement(By.cssSelector("#scores tbody tr td.num")).getText()).matches("-?\\d\\.\\d{4}");

                browser.findElement(By.id("search-text")).sendKeys("a photo");
                browser.findElement(By.id("search")).click();
                wait.until(d -> d.findElements(By.cssSelector("#results .hit img")).size() == ServeTesting.IMAGES.size());
                for (WebElement img : browser.findElements(By.cssSelector("#results .hit img"))) {
                    assertThat(img.getAttribute("src")).startsWith("data:image/jpeg;base64,");
                }

                browser.findElement(By.id("explain")).click();
                wait.until(d -> d.findElement(By.id("attention")).isDisplayed()
                        && ((Number) ((ChromeDriver) d).executeScript("return document.getElementById('attention').naturalWidth"))
                                .intValue() > 0);

                // By image last: the uploaded photo is in the index and comes first; the page is left showing it all.
                browser.findElement(By.id("search-image")).click();
                wait.until(d -> {
                    List<WebElement> hits = d.findElements(By.cssSelector("#results .hit div"));
                    return !hits.isEmpty() && hits.get(0).getText().startsWith("1. photo_512x384.jpg");
                });
                assertThat(browser.findElement(By.id("status")).getAttribute("class")).doesNotContain("error");

                browser.executeScript("window.scrollTo(0, 0)");
                File shot = browser.getScreenshotAs(OutputType.FILE);
                Path target = Path.of("target", "serve-page.png");
                Files.createDirectories(target.getParent());
                Files.copy(shot.toPath(), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } finally {
                browser.quit();
            }
        }
    }
}
