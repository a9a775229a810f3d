//! `hello`: the smallest program. Prints a greeting with its pid and its
//! arguments and exits 0.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use libipc::{println, Args};

libipc::main!(main);

fn main(args: Args) -> i32 {
    match args.as_str() {
        Some(text) => println!("hello: hello, world! pid {} args \"{}\"", libipc::getpid(), text),
        None => println!("hello: hello, world! pid {} args {:?}", libipc::getpid(), args.as_bytes()),
    }
    0
}
