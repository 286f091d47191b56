//! `summary_speed FILE [THREADS]`: runs the summary pipeline over FILE and prints lines/s (a
//! profiling aid for the library alone; the benchmark proper runs `mailward logs summary`).
//! THREADS defaults to the number of cores available; 1 reads on the calling thread only.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: summary_speed FILE [THREADS]")?;
    let threads = match args.next() {
        Some(t) => t.parse()?,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let t0 = std::time::Instant::now();
    let input = mailward_logs::input::Input::open(std::path::Path::new(&path), None)?;
    let mut an = mailward_logs::Analyzer::new(false, true, false).summary_only();
    an.read(vec![input], threads, &mut |_| {}, &mut || {})?;
    let (s, _) = an.finish(10, &mut |_| {});
    let n = s.lines.total;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{n} lines in {secs:.3} s = {:.0} lines/s ({threads} threads); received {} delivered {} unparsed {}",
        n as f64 / secs,
        s.received,
        s.delivered,
        s.lines.unparsed
    );
    Ok(())
}
