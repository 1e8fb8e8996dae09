from kyphos.cli import main

main()
