//! Expanding command-line PATH arguments: files, directories, glob patterns and `-`.

use std::io::Read;
use std::path::{Path, PathBuf};

/// One input to read: a file path, or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Input {
    /// The name used in messages (`-` for standard input).
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
        }
    }

    /// Reads the whole input as bytes.
    pub fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            Input::File(p) => {
                crate::files::read_bounded(p, MAX_INPUT_BYTES).map_err(|e| e.to_string())
            }
            Input::Stdin => {
                let mut buf = Vec::new();
                std::io::stdin()
                    .take(MAX_INPUT_BYTES + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| format!("cannot read standard input: {e}"))?;
                if buf.len() as u64 > MAX_INPUT_BYTES {
                    return Err(format!(
                        "standard input holds more than {MAX_INPUT_BYTES} bytes; swf-iam reads at most that"
                    ));
                }
                Ok(buf)
            }
        }
    }
}

/// The largest file `validate` reads (a policy, a configuration or a source file).
const MAX_INPUT_BYTES: u64 = crate::importers::MAX_SOURCE_BYTES as u64;

/// Whether `p` is a YAML file holding a CloudFormation template (read to tell).
fn is_yaml_template(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "template")
        && crate::files::read_bounded(p, MAX_INPUT_BYTES).is_ok_and(|b| {
            crate::importers::detect(&b) == Some(crate::importers::SourceKind::CloudFormation)
        })
}

fn walk(dir: &Path, templates: bool, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read directory `{}`: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read directory `{}`: {e}", dir.display()))?;
        paths.push(entry.path());
    }
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, templates, out)?;
        } else if p.extension().is_some_and(|e| e == "json") || (templates && is_yaml_template(&p))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// Expands PATH arguments: a file is itself; a directory is every `*.json` below it
/// (sorted; a directory with none is an error, as a glob that matches nothing is); a
/// path that does not exist but has glob characters is a glob pattern; `-` is standard
/// input. Errors name the path.
pub fn expand(paths: &[String]) -> Result<Vec<Input>, String> {
    expand_with(paths, false)
}

/// [`expand`], a directory also giving its YAML CloudFormation templates (`*.yaml`,
/// `*.yml`, `*.template` that read as a template; other YAML is left alone).
pub fn expand_with_templates(paths: &[String]) -> Result<Vec<Input>, String> {
    expand_with(paths, true)
}

fn expand_with(paths: &[String], templates: bool) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let path = Path::new(p);
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, templates, &mut files)?;
            if files.is_empty() {
                return Err(if templates {
                    format!("no *.json file or YAML template in directory `{p}`")
                } else {
                    format!("no *.json file in directory `{p}`")
                });
            }
            out.extend(files.into_iter().map(Input::File));
        } else if path.exists() {
            out.push(Input::File(path.to_path_buf()));
        } else if p.contains(['*', '?', '[']) {
            let matches = glob::glob(p).map_err(|e| format!("invalid pattern `{p}`: {e}"))?;
            let mut files = Vec::new();
            for m in matches {
                let m =
                    m.map_err(|e| format!("cannot read `{}`: {}", e.path().display(), e.error()))?;
                if m.is_dir() {
                    walk(&m, templates, &mut files)?;
                } else {
                    files.push(m);
                }
            }
            if files.is_empty() {
                return Err(format!("no files match `{p}`"));
            }
            out.extend(files.into_iter().map(Input::File));
        } else {
            return Err(format!("cannot read `{p}`: No such file or directory"));
        }
    }
    Ok(out)
}
