from royalroad.cli import main

main()
