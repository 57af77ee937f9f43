//! The sync engine: read, resolve, merge, plan, apply (see DESIGN "Data flow of one cycle").

pub mod merge;
