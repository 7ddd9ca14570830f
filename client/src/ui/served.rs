//! The files the page may load: only paths vxd itself answered with (catalogued files and
//! their thumbnails), each under a number handed out here. A request names a number, never a
//! path, so nothing outside what vxd listed can be read through the server.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use vx_protocol::WirePath;

#[derive(Default)]
pub struct Served {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    paths: Vec<PathBuf>,
    ids: HashMap<PathBuf, usize>,
}

impl Served {
    /// The number of a path vxd answered with (the same number each time).
    pub fn id(&self, path: &Path) -> usize {
        let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = t.ids.get(path) {
            return id;
        }
        let id = t.paths.len();
        t.paths.push(path.to_path_buf());
        t.ids.insert(path.to_path_buf(), id);
        id
    }

    /// The page's address of a path vxd answered with.
    pub fn url(&self, path: &WirePath) -> String {
        format!("/file/{}", self.id(&path.to_path_buf()))
    }

    pub fn path(&self, id: usize) -> Option<PathBuf> {
        let t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        t.paths.get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_keeps_its_number_and_unknown_numbers_are_nothing() {
        let s = Served::default();
        let a = s.id(Path::new("/m/a.jpg"));
        let b = s.id(Path::new("/m/b.jpg"));
        assert_ne!(a, b);
        assert_eq!(s.id(Path::new("/m/a.jpg")), a);
        assert_eq!(s.path(b), Some(PathBuf::from("/m/b.jpg")));
        assert_eq!(s.path(99), None);
    }
}
