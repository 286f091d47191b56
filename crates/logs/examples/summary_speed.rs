//! `summary_speed FILE`: runs the summary pipeline over FILE and prints lines/s (a profiling
//! aid for the library alone; the benchmark proper runs `mailward logs summary`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: summary_speed FILE")?;
    let t0 = std::time::Instant::now();
    let input = mailward_logs::input::Input::open(std::path::Path::new(&path), None)?;
    let mut an = mailward_logs::Analyzer::new(false, true, false);
    mailward_logs::input::for_each_line(vec![input], |l, y| an.line(l, y, &mut |_| {}))?;
    let (s, _) = an.finish(10, &mut |_| {});
    let n = s.lines.total;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{n} lines in {secs:.3} s = {:.0} lines/s; received {} delivered {} unparsed {}",
        n as f64 / secs,
        s.received,
        s.delivered,
        s.lines.unparsed
    );
    Ok(())
}
