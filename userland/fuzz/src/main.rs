//! Placeholder.
#![no_std]
#![no_main]
libipc::main!(main);
fn main(_args: libipc::Args) -> i32 {
    0
}
